"""FaceGate's Qt side: every widget and thread. It shows what core/ decides and forwards clicks."""
