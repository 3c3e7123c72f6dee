"""Face pipeline, generator versions, generation jobs and headshots (arrives with issues 3-4)."""
