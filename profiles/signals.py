from django.contrib.auth.models import User
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from profiles.services import delete_account_data


@receiver(pre_delete, sender=User)
def delete_what_the_user_owns(sender, instance: User, **kwargs) -> None:
    """However a user is deleted (their own page, the admin), their media, avatars and profile go first."""
    delete_account_data(str(instance.pk))
