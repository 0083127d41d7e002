from django.urls import path

from uploads import views

urlpatterns = [
    path("", views.gallery, name="home"),
]
