from django.contrib.auth import views as auth_views
from django.urls import path

from hfplatform.accounts import views

app_name = "accounts"
urlpatterns = [
    path("users/", views.users, name="users"),
]

auth_urlpatterns = [
    path("accounts/login/", views.LimitedLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
