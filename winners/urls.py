from rest_framework.routers import SimpleRouter

from .views import WinnerViewSet

router = SimpleRouter()
router.register("winners", WinnerViewSet, basename="winner")

urlpatterns = router.urls
