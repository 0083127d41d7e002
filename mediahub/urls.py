from django.contrib import admin
from django.urls import include, path

from mediahub import views
from uploads import admin as uploads_admin

admin.site.site_header = "mediahub administration"
admin.site.site_title = "mediahub admin"

urlpatterns = [
    path("admin/", include(uploads_admin.urls())),
    path("admin/", admin.site.urls),
    path("accounts/", include("profiles.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("uploads.urls")),
]
