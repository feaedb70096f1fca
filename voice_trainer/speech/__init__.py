"""Speech: recognizer (vosk), synthesizer (pyttsx3 / eSpeak NG), model lookup and install."""
