"""The directory: nations and their groups, organisations, users and API tokens. On start it gives the label core
its reader of nation groups."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate


def _load_reference_data(sender: AppConfig, **kwargs: Any) -> None:
    """Every node knows the NATO and partner nations and the NATO and IP4 groups from its first migrate on."""
    from kizuna.directory.services import ensure_reference_data

    ensure_reference_data()


class DirectoryConfig(AppConfig):
    name = "kizuna.directory"
    label = "directory"
    verbose_name = "Directory"

    def ready(self) -> None:
        from kizuna.core.access import set_group_source
        from kizuna.directory.models import NationGroup
        from kizuna.directory.services import nation_groups
        from kizuna.directory.subjects import groups_changed

        post_migrate.connect(_load_reference_data, sender=self)
        m2m_changed.connect(groups_changed, sender=NationGroup.members.through, dispatch_uid="kizuna-subject-groups")
        set_group_source(nation_groups)

