"""What the Rasa server loads: the Loket input channel and the NLU pipeline's own components
(named in bot/config.yml and bot/credentials.yml). The gateway never imports this package."""
