from django.urls import path

from . import board

app_name = "board"

urlpatterns = [
    path("", board.board_index, name="index"),
    path("villages/<int:pk>/", board.board_village, name="village"),
    path("notices/<int:pk>/", board.notice_detail, name="notice"),
]
