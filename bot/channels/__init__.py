"""Custom Rasa input/output channels.

Enable one by naming its class in ``bot/credentials.yml`` (see ``bot/credentials.example.yml``):

- ``bot.channels.rest.GuardedRestInput`` — Rasa's REST channel (``/webhooks/rest/webhook``);
- ``bot.channels.socketio_persistent.PersistentSocketIOInput`` — the web widget's Socket.IO;
- ``bot.channels.zalo.ZaloInput`` — Zalo Official Account (webhook ``/webhooks/zalo/webhook``);
- ``bot.channels.telegram_secure.TelegramSecureInput`` — Rasa's Telegram channel plus
  Telegram's ``secret_token`` check (webhook ``/webhooks/telegram/webhook``).

All of them hand messages to Rasa through ``turn.run_turn`` (the message guard of
``bot.guard``, per-channel sender ids of ``senders``, an apology when no reply comes) and cap
the server's request bodies and action-call time (``limits``).

Modules are imported by Rasa only when named there, so nothing here imports them eagerly.
"""
