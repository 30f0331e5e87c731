from django.urls import path

from . import views

app_name = "oversight"

urlpatterns = [
    path("", views.home, name="home"),
    path("<int:pk>/", views.place, name="place"),
    path("<int:pk>/export/", views.export, name="export"),
]
