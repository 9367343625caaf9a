"""URLs of the report pages, under /reports/."""

from django.urls import include, path

from kizuna.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("new/", views.report_create, name="create"),
    path("label-preview/", views.label_preview, name="label_preview"),
    # One report's pages.
    path("<int:pk>/", include([
        path("", views.report_detail, name="detail"),
        path("edit/", views.report_edit, name="edit"),
        path("withdraw/", views.report_withdraw, name="withdraw"),
        path("comments/", views.comment_add, name="comment_add"),
        path("attachments/", views.attachment_add, name="attachment_add"),
        path("attachments/<int:att_id>/", views.attachment_download, name="attachment"),
    ])),
]
