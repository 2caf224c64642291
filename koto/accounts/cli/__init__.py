"""Management commands of Koto's that replace Django's own of the same name: an app of its
own, listed before `django.contrib.auth` in `INSTALLED_APPS` (the first app with a command
of a name gives it), so that the accounts app keeps its place after django-axes."""
