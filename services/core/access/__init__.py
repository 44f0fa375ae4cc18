"""The access policy decision point, and the patient's choices it reads."""
