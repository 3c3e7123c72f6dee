"""The generation app, in two rooms: ``faces`` (subjects, photos, uploads, face analysis) and
``generator`` (versions, training, generation jobs, headshots). ``ml`` holds their numeric code
(no Django); ``models`` holds both rooms' rows (one Django app, label ``generation``)."""
