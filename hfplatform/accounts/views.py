"""Pages for accounts: the home page and the admin's user list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
