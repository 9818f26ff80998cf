"""Open data: a daily bulk file of every public recommendation, in CSV and JSON, with a
data dictionary, readable without signing in. Restricted text is never in it: a
restricted recommendation (or any of a restricted report) is left out, and the files say
how many were."""
