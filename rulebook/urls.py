from django.urls import path

from . import views

app_name = "rulebook"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.place, name="place"),
    path("<int:pk>/new/", views.edit, name="edit"),
    path("<int:pk>/versions/<int:number>/", views.version, name="version"),
]
