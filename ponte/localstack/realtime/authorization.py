"""Private-channel authorization, the way Supabase Realtime does it: RLS on realtime.messages.

In one transaction that is always rolled back: insert a probe row for the topic as the
server, impersonate the user (role, claims, ``realtime.topic``), and see whether the
user can select the probe (read) and insert a row of their own (write).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

_IMPERSONATE = (
    "select set_config('role', %(role)s, true), set_config('realtime.topic', %(topic)s, true),"
    " set_config('request.jwt.claims', %(claims)s, true), set_config('request.jwt.claim.sub', %(sub)s, true),"
    " set_config('request.jwt.claim.role', %(role)s, true), set_config('request.headers', %(headers)s, true)"
)


@dataclass(frozen=True)
class Permissions:
    read: bool
    write: bool


def impersonation_params(claims: dict[str, Any], topic: str = "") -> dict[str, str]:
    return {
        "role": str(claims["role"]),
        "topic": topic,
        "claims": json.dumps(claims),
        "sub": str(claims.get("sub") or ""),
        "headers": "{}",
    }


async def authorize(pool: AsyncConnectionPool[Any], topic: str, claims: dict[str, Any]) -> Permissions:
    async with pool.connection() as conn, conn.transaction(force_rollback=True):
        probe = await (
            await conn.execute(
                "insert into realtime.messages (topic, extension, private) values (%s, 'broadcast', true) returning id",
                (topic,),
            )
        ).fetchone()
        assert probe is not None
        await conn.execute(_IMPERSONATE, impersonation_params(claims, topic))
        try:
            row = await (
                await conn.execute("select count(*) from realtime.messages where id = %s", (probe[0],))
            ).fetchone()
            read = bool(row and row[0] == 1)
        except psycopg.Error:  # a policy that raises denies, as upstream's RlsPolicyError does
            return Permissions(read=False, write=False)
        write = False
        try:
            async with conn.transaction():
                await conn.execute(
                    "insert into realtime.messages (topic, extension, private) values (%s, 'broadcast', true)", (topic,)
                )
                write = True
        except psycopg.Error:
            write = False
        return Permissions(read=read, write=write)
