"""The agenda's pages, under /p/<practice>/ (each page module lists its own)."""

from agenda import day_urls, desk_urls, settings_urls

app_name = "agenda"

urlpatterns = [*desk_urls.urlpatterns, *day_urls.urlpatterns, *settings_urls.urlpatterns]
