"""Pages for accounts: the home page and the admin's user list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hfplatform.accounts.roles import Role, role_required, user_roles
from hfplatform.accounts.selectors import user_list
from hfplatform.jobs.selectors import job_list


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = user_roles(request.user)
    recent_jobs = job_list(user=request.user)[:5]
    return render(request, "home.html", {"roles": roles, "Role": Role, "recent_jobs": recent_jobs})


@role_required(Role.ADMIN)
def users(request: HttpRequest) -> HttpResponse:
    rows = [{"user": u, "roles": sorted(user_roles(u))} for u in user_list()]
    return render(request, "accounts/users.html", {"rows": rows})
