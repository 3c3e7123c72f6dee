"""The face pipeline room of the generation app: subjects, photos, uploads, analysis."""
