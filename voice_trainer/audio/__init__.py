"""Audio: devices, input/output streams, resampling, end-of-turn detection, the recorder."""
