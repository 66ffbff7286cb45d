"""Custom Rasa input/output channels.

Enable one by naming its class in ``bot/credentials.yml`` (see ``bot/credentials.example.yml``):

- ``bot.channels.zalo.ZaloInput`` — Zalo Official Account (webhook ``/webhooks/zalo/webhook``);
- ``bot.channels.telegram_secure.TelegramSecureInput`` — Rasa's Telegram channel plus
  Telegram's ``secret_token`` check (webhook ``/webhooks/telegram/webhook``).

Modules are imported by Rasa only when named there, so nothing here imports them eagerly.
"""
