"""Helpers that run inside subprocesses of tests/core/test_worker.py.

- A slow test-only subscriber, loaded by Celery workers through
  ZHIJIAN_EXTRA_HANDLERS=tests.core.worker_support, so that a batch takes long enough
  to kill a worker in the middle of it (ZHIJIAN_TEST_HANDLER_SLEEP_MS, default 20).
- `seed(n)`: register n market entities through the registry service, as a regulator
  would, each in its own transaction (so each commit publishes and schedules a drain).

Run with `zhijian shell -c "from tests.core.worker_support import seed; seed(300)"`.
"""

from __future__ import annotations

import os
import time

from zhijian.core.events import subscribe

DIVISIONS = ["610113", "610104", "610302", "610113", "610104"]


@subscribe("entity.registered")
def slow_subscriber(event) -> None:
    time.sleep(int(os.environ.get("ZHIJIAN_TEST_HANDLER_SLEEP_MS", "20")) / 1000)


def seed(n: int) -> None:
    from tests import factories as f
    from zhijian.registry import services

    department = f.DepartmentFactory(division=f.division("610000"), code="61-market",
                                     name="陕西省市场监督管理局")
    officer = f.UserFactory(username="worker-test-officer", department=department)
    for i in range(n):
        code = DIVISIONS[i % len(DIVISIONS)]
        services.entity_register(actor=officer, data={
            "uscc": f.uscc_for(code), "name": f"工作进程测试企业{i}有限公司",
            "division": code, "legal_representative": "赵六"})
    print(f"seeded {n}")
