"""voice_trainer: offline voice role-play trainer for customer-support agents."""

__version__ = "0.1.0"
