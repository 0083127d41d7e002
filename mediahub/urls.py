from django.contrib import admin
from django.urls import include, path

from mediahub import openapi, views
from profiles import admin as profiles_admin
from profiles import api as profile_api
from profiles import views as profile_views
from uploads import admin as uploads_admin

admin.site.site_header = "mediahub administration"
admin.site.site_title = "mediahub admin"

urlpatterns = [
    path("admin/", include(uploads_admin.urls() + profiles_admin.urls())),
    path("admin/", admin.site.urls),
    path("accounts/", include("profiles.urls")),
    path("profile/", profile_views.profile, name="profile"),
    path("profile/tokens/", profile_views.token_create, name="token-create"),
    path("profile/tokens/<int:token_id>/revoke/", profile_views.token_revoke, name="token-revoke"),
    path("u/<str:username>/", profile_views.public_profile, name="public-profile"),
    path("api/profile/avatar", profile_api.avatar, name="api-avatar"),
    path("api/profile/avatar/complete", profile_api.avatar_complete, name="api-avatar-complete"),
    path("api/openapi.json", openapi.openapi_json, name="api-openapi"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("", include("albums.urls")),  # issue 13: albums
    path("", include("exports.urls")),  # ZIP downloads
    path("", include("search.urls")),
    path("", include("uploads.urls")),
]

handler404 = "mediahub.views.not_found"
