"""Random inspections in the regulator workbench, mounted at /work/inspections/."""

from django.urls import path

from .views import draws, plans, tasks

app_name = "inspections"
urlpatterns = [
    path("", plans.plan_list, name="plan_list"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/publish/", plans.plan_publish, name="plan_publish"),
    path("draws/<int:pk>/", draws.draw_detail, name="draw_detail"),
    path("draws/<int:pk>/seed/", draws.draw_seed, name="draw_seed"),
    path("draws/<int:pk>/redraw/", draws.draw_redraw, name="draw_redraw"),
    path("draws/<int:pk>/bundle.json", draws.draw_bundle, name="draw_bundle"),
    path("tasks/", tasks.task_list, name="task_list"),
    path("tasks/mine/", tasks.my_tasks, name="my_tasks"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task_detail"),
    path("tasks/<int:pk>/evidence/", tasks.task_evidence, name="task_evidence"),
    path("tasks/<int:pk>/evidence/<int:evidence_pk>/", tasks.evidence_file,
         name="evidence_file"),
    path("tasks/<int:pk>/sign/", tasks.task_sign, name="task_sign"),
    path("tasks/<int:pk>/complete/", tasks.task_complete, name="task_complete"),
    path("conflicts/", tasks.conflict_declare, name="conflict_declare"),
]
