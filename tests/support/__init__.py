"""What tests share besides fixtures: data paths, the live window's recording, helper processes."""
