from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "citygrid.inventory"
    label = "inventory"
    verbose_name = "部件普查 Inventory"

    def ready(self) -> None:
        # Wiring, not a business rule: routing asks the inventory who owns a component.
        from citygrid.inventory.selectors import component_owner
        from citygrid.org.services import register_component_owner_lookup

        register_component_owner_lookup(component_owner)
