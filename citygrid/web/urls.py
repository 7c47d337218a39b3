from django.urls import path

from citygrid.web import views

app_name = "web"
urlpatterns: list = []
