from rest_framework.routers import DefaultRouter

from zhijian.core.api import CheckpointViewSet, PublicKeyViewSet
from zhijian.registry import api as registry

router = DefaultRouter()
router.register("divisions", registry.DivisionViewSet, basename="division")
router.register("categories", registry.CategoryViewSet, basename="category")
router.register("standards", registry.StandardViewSet, basename="standard")
router.register("departments", registry.DepartmentViewSet, basename="department")
router.register("responsibilities", registry.ResponsibilityViewSet, basename="responsibility")
router.register("entities", registry.EntityViewSet, basename="entity")
router.register("products", registry.ProductViewSet, basename="product")
router.register("labs", registry.LabViewSet, basename="lab")
router.register("user-units", registry.UserUnitViewSet, basename="userunit")
router.register("inspectors", registry.InspectorViewSet, basename="inspector")
router.register("public/entities", registry.PublicEntityViewSet, basename="public-entity")
router.register("public/audit/checkpoints", CheckpointViewSet, basename="checkpoint")
router.register("public/keys", PublicKeyViewSet, basename="publickey")

urlpatterns = router.urls
