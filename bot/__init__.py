"""What Rasa runs: domain, endpoints, credentials and the custom channels (``bot.channels``)."""
