from django.urls import path

from exports import api, views

urlpatterns = [
    path("downloads/", views.downloads, name="exports"),
    path("downloads/<str:export_id>/", views.export, name="export"),
    path("downloads/<str:export_id>/file/", views.export_file, name="export-file"),
    path("api/exports", api.exports_collection, name="api-exports"),
    path("api/exports/<str:export_id>", api.export_item, name="api-export"),
]
