from django.urls import path

from uploads import api, views

urlpatterns = [
    path("", views.gallery, name="home"),
    path("upload/", views.upload, name="upload"),
    path("media/<str:media_id>/", views.detail, name="media-detail"),
    path("media/<str:media_id>/uploaded/", views.uploaded, name="media-uploaded"),
    path("media/<str:media_id>/delete/", views.delete, name="media-delete"),
    path("media/<str:media_id>/download/", views.download, name="media-download"),
    path("api/media/", api.media_collection, name="api-media"),
    path("api/media/<str:media_id>", api.media_item, name="api-media-item"),
    path("api/media/<str:media_id>/complete", api.media_complete, name="api-media-complete"),
]
