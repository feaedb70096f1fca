"""Speech: recognizer (vosk), synthesizer (pyttsx3 / eSpeak NG), the customer's voice, model lookup and install."""
