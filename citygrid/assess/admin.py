from django.contrib import admin

from citygrid.assess.models import (
    AssessmentMethod,
    AssessmentResult,
    AssessmentRun,
    SpotCheck,
    UnitOnlineDay,
)


@admin.register(AssessmentMethod)
class AssessmentMethodAdmin(admin.ModelAdmin):
    list_display = ("name", "valid_from", "created_at")


@admin.register(AssessmentRun)
class AssessmentRunAdmin(admin.ModelAdmin):
    list_display = ("period_kind", "period_start", "period_end", "status", "progress", "generated_at")
    readonly_fields = ("status", "progress", "generated_at", "facts_as_of", "message")


@admin.register(AssessmentResult)
class AssessmentResultAdmin(admin.ModelAdmin):
    list_display = ("run", "subject_kind", "subject_name", "score", "grade", "rank")
    list_filter = ("subject_kind", "grade")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.register(SpotCheck)
admin.site.register(UnitOnlineDay)
