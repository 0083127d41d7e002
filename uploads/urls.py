from django.urls import path

from uploads import api, views

urlpatterns = [
    path("", views.gallery, name="home"),
    path("upload/", views.upload, name="upload"),
    path("usage/", views.usage, name="usage"),
    path("media/<str:media_id>/", views.detail, name="media-detail"),
    path("media/<str:media_id>/uploaded/", views.uploaded, name="media-uploaded"),
    path("media/<str:media_id>/delete/", views.delete, name="media-delete"),
    path("media/<str:media_id>/download/", views.download, name="media-download"),
    path("media/<str:media_id>/share/", views.share, name="media-share"),
    path("media/<str:media_id>/share/<str:link_digest>/revoke/", views.share_revoke, name="media-share-revoke"),
    path("s/<str:token>/", views.shared, name="shared"),
    path("s/<str:token>/play/", views.shared_play, name="shared-play"),
    path("s/<str:token>/download/", views.shared_download, name="shared-download"),
    path("api/media/", api.media_collection, name="api-media"),
    path("api/media/status", api.media_statuses, name="api-media-status"),  # before <media_id>, which it would match
    path("api/media/<str:media_id>", api.media_item, name="api-media-item"),
    path("api/media/<str:media_id>/complete", api.media_complete, name="api-media-complete"),
    path("api/media/<str:media_id>/parts", api.media_parts, name="api-media-parts"),
    path("api/media/<str:media_id>/upload", api.media_upload, name="api-media-upload"),
]
