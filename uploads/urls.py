from django.urls import path

from uploads import api, views

urlpatterns = [
    path("", views.gallery, name="home"),
    path("upload/", views.upload, name="upload"),
    path("usage/", views.usage, name="usage"),
    # --- Trash, favourites, bulk (docs/trash.md): before media/<media_id>/, which "bulk" would match
    path("trash/", views.trash_page, name="trash"),
    path("trash/empty/", views.empty_trash, name="trash-empty"),
    path("trash/<str:media_id>/restore/", views.restore, name="trash-restore"),
    path("trash/<str:media_id>/delete/", views.delete_for_good, name="trash-delete"),
    path("media/bulk/<str:action>/", views.bulk, name="media-bulk"),
    path("api/media/bulk", api.bulk, name="api-media-bulk"),
    path("api/trash", api.trash_collection, name="api-trash"),
    path("media/<str:media_id>/", views.detail, name="media-detail"),
    path("media/<str:media_id>/uploaded/", views.uploaded, name="media-uploaded"),
    path("media/<str:media_id>/delete/", views.delete, name="media-delete"),
    path("media/<str:media_id>/download/", views.download, name="media-download"),
    path("media/<str:media_id>/share/", views.share, name="media-share"),
    path("media/<str:media_id>/share/<str:link_digest>/revoke/", views.share_revoke, name="media-share-revoke"),
    path("media/<str:media_id>/favourite/", views.favourite, name="media-favourite"),
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
