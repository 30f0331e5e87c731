from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.home, name="home"),
    path("templates/<str:kind>.xlsx", views.template, name="template"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/status/", views.job_status, name="job_status"),
    path("jobs/<int:pk>/confirm/", views.job_confirm, name="job_confirm"),
    path("jobs/<int:pk>/report.xlsx", views.job_report, name="job_report"),
    path("baselines/", views.baselines, name="baselines"),
    path("initial-passwords/", views.password_jobs, name="password_jobs"),
    path("initial-passwords/<int:pk>/", views.initial_passwords, name="initial_passwords"),
    path("initial-passwords/<int:pk>/again/", views.initial_passwords_again, name="initial_passwords_again"),
]
