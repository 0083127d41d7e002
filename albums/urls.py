from django.urls import path

from albums import api, views

urlpatterns = [
    path("albums/", views.album_list, name="albums"),
    path("albums/add/", views.add, name="albums-add"),
    path("albums/<str:album_id>/", views.album, name="album"),
    path("albums/<str:album_id>/edit/", views.edit, name="album-edit"),
    path("albums/<str:album_id>/order/", views.order, name="album-order"),
    path("albums/<str:album_id>/delete/", views.delete, name="album-delete"),
    path("albums/<str:album_id>/cover/", views.cover, name="album-cover"),
    path("albums/<str:album_id>/remove/", views.remove, name="album-remove"),
    path("albums/<str:album_id>/share/", views.share, name="album-share"),
    path("albums/<str:album_id>/share/<str:link_digest>/revoke/", views.share_revoke, name="album-share-revoke"),
    path("a/<str:token>/", views.shared, name="shared-album"),
    path("a/<str:token>/<str:media_id>/download/", views.shared_download, name="shared-album-download"),
    path("api/albums/", api.album_collection, name="api-albums"),
    path("api/albums/<str:album_id>", api.album_item, name="api-album"),
    path("api/albums/<str:album_id>/items", api.album_items, name="api-album-items"),
    path("api/albums/<str:album_id>/items/remove", api.album_items_remove, name="api-album-items-remove"),
]
