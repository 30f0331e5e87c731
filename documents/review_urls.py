"""URLs of the review part of the archive; included by documents/urls.py under the "documents" namespace."""

from django.urls import path

from . import review_views

urlpatterns = [
    path("review/search/", review_views.archive_search, name="archive_search"),
    path("review/flags/", review_views.flag_list, name="flag_list"),
    path("review/matters/<int:pk>/flag/", review_views.flag_create, name="flag_create"),
    path("review/flags/<int:pk>/answer/", review_views.flag_answer, name="flag_answer"),
    path("review/corrections/", review_views.correction_list, name="correction_list"),
    path("review/matters/<int:pk>/correction/", review_views.correction_create, name="correction_create"),
    path(
        "review/corrections/<int:pk>/township/",
        review_views.correction_township_decide,
        name="correction_township_decide",
    ),
    path("review/corrections/<int:pk>/county/", review_views.correction_county_decide, name="correction_county_decide"),
    path("review/access-log/", review_views.access_log, name="access_log"),
]
