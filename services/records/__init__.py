"""Records: the patient chart."""
