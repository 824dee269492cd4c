"""The administrators' pages (/admin/): accounts with their organisations and roles, organisations, the audit trail
(read only). Reached by a logged-in administrator only: the login is clausier's own, throttled (web.acces)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group

from ..marches.models import Journal, Membre, Organisation
from ..suivi.models import MarcheSuivi

User = get_user_model()

admin.site.site_header = "Administration de clausier"
admin.site.site_title = "clausier"
admin.site.index_title = "Comptes, organisations et journal"
admin.site.unregister(Group)


class MembreInline(admin.TabularInline):
    model = Membre
    extra = 1
    verbose_name = "rattachement"
    verbose_name_plural = "organisations et rôles (un acheteur : son organisation ; un facilitateur : chaque acheteur suivi)"


class CreationForm(AdminUserCreationForm):
    """An account is an address: the login is the address, in lower case; an address already used is refused."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username",)
        labels = {"username": "Adresse électronique"}

    def clean_username(self):
        from .services import AccountError, find_account, normalise_email

        try:
            address = normalise_email(self.cleaned_data["username"])
        except AccountError as exc:
            raise forms.ValidationError(str(exc)) from None
        if find_account(address) is not None:
            raise forms.ValidationError(f"Un compte existe déjà pour l'adresse {address}.")
        return address

    def save(self, commit=True):
        user = super().save(commit=False)
        user.email = user.username
        if commit:
            user.save()
        return user


admin.site.unregister(User)


@admin.register(User)
class CompteAdmin(UserAdmin):
    add_form = CreationForm
    inlines = [MembreInline]
    list_display = ("username", "first_name", "last_name", "is_active", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser", "adhesions__role")
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Identité", {"fields": ("first_name", "last_name", "email")}),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser"),
                    "description": "Un administrateur (superutilisateur) voit toutes les organisations."}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("nom", "slug", "cree_le")
    search_fields = ("nom", "slug")
    prepopulated_fields = {"slug": ("nom",)}


@admin.register(MarcheSuivi)
class MarcheSuiviAdmin(admin.ModelAdmin):
    list_display = ("reference", "objet", "organisation", "debut_execution", "duree_mois", "facilitateur")
    list_filter = ("organisation",)
    search_fields = ("reference", "objet")
    fields = ("organisation", "reference", "objet", "debut_execution", "duree_mois", "facilitateur")
    readonly_fields = ("organisation", "reference", "objet")

    def has_add_permission(self, request):
        return False  # a market enters the portfolio from its generated files, never typed in


@admin.register(Journal)
class JournalAdmin(admin.ModelAdmin):
    """Append-only: read here, never changed or removed."""

    list_display = ("date", "action", "acteur", "organisation", "reference")
    list_filter = ("action", "organisation")
    search_fields = ("acteur", "reference")
    readonly_fields = [f.name for f in Journal._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
