"""Ways of producing trainee turns for a Session: typed text, a script, the microphone, recorded WAVs."""
