from django.urls import path

from .views import entities, org, registers, workbench

app_name = "web"
urlpatterns = [
    path("", workbench.home, name="home"),
    path("entities/", entities.entity_list, name="entity_list"),
    path("entities/new/", entities.entity_create, name="entity_create"),
    path("entities/import/", entities.entity_import, name="entity_import"),
    path("entities/<int:pk>/", entities.entity_detail, name="entity_detail"),
    path("entities/<int:pk>/edit/", entities.entity_edit, name="entity_edit"),
    path("entities/<int:pk>/products/new/", entities.product_create, name="product_create"),
    path("entities/<int:pk>/products/<int:product_pk>/edit/", entities.product_edit,
         name="product_edit"),
    path("labs/", registers.lab_list, name="lab_list"),
    path("labs/new/", registers.lab_create, name="lab_create"),
    path("labs/<int:pk>/", registers.lab_detail, name="lab_detail"),
    path("labs/<int:pk>/edit/", registers.lab_edit, name="lab_edit"),
    path("labs/<int:pk>/scopes/add/", registers.lab_scope_add, name="lab_scope_add"),
    path("labs/<int:pk>/scopes/<int:scope_pk>/end/", registers.lab_scope_end,
         name="lab_scope_end"),
    path("user-units/", registers.unit_list, name="unit_list"),
    path("user-units/new/", registers.unit_create, name="unit_create"),
    path("user-units/<int:pk>/", registers.unit_detail, name="unit_detail"),
    path("user-units/<int:pk>/edit/", registers.unit_edit, name="unit_edit"),
    path("inspectors/", registers.inspector_list, name="inspector_list"),
    path("inspectors/new/", registers.inspector_create, name="inspector_create"),
    path("departments/", workbench.departments, name="department_list"),
    path("matrix/", workbench.matrix, name="matrix"),
    path("org/", org.org_home, name="org_home"),
    path("org/edit/", org.org_edit, name="org_edit"),
    path("org/products/new/", org.org_product_create, name="org_product_create"),
    path("org/products/<int:product_pk>/edit/", org.org_product_edit, name="org_product_edit"),
]
