"""Administration: accounts, stakeholder groups and work areas (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.auth.deps import AdminUser, DbSession
from server.auth.service import list_users
from server.web import render

router = APIRouter(prefix="/admin")


@router.get("/users", name="admin_users")
def admin_users(request: Request, session: DbSession, user: AdminUser) -> Response:
    return render(request, "admin/users.html", {"users": list_users(session)})
