"""Pages for accounts: the home page, the admin's user list and the login page under its limits."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hfplatform.accounts.login_limits import (
    client_address,
    login_failed,
    login_succeeded,
    login_wait,
    wait_message,
)
from hfplatform.accounts.roles import READERS, REVIEWERS, Role, has_role, role_required, user_roles
from hfplatform.accounts.selectors import user_list
from hfplatform.jobs.selectors import job_list, jobs_needing_attention


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What each role does next: the apps' cards (``hfplatform.home``) and the jobs that need a look."""
    from hfplatform.home import home_cards

    user = request.user
    can_read_jobs = has_role(user, READERS)
    return render(request, "home.html", {
        "is_admin": Role.ADMIN in user_roles(user),
        "is_reviewer": has_role(user, REVIEWERS),
        "is_photographer": Role.PHOTOGRAPHER in user_roles(user),
        "can_read_jobs": can_read_jobs,
        "cards": home_cards(user),
        "attention": jobs_needing_attention(user=user) if can_read_jobs else [],
        "recent_jobs": job_list(user=user)[:5] if can_read_jobs else [],
    })


@role_required(Role.ADMIN)
def users(request: HttpRequest) -> HttpResponse:
    rows = [{"user": u, "roles": sorted(user_roles(u))} for u in user_list()]
    return render(request, "accounts/users.html", {"rows": rows})


class LimitedLoginView(auth_views.LoginView):
    """Django's login page under the sign-in limits (``login_limits``): a 429 page with the wait
    while an account or address must wait; failures counted, success clears the account's."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username, address = request.POST.get("username", ""), client_address(request)
        wait = login_wait(username=username, address=address)
        if wait:
            context = self.get_context_data(form=self.get_form(), limit_message=wait_message(wait))
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:  # the form came back: wrong credentials
            login_failed(username=username, address=address)
        elif request.user.is_authenticated:
            login_succeeded(username=username)
        return response
