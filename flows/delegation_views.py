"""The delegation page (委托办理): hand one's township tasks to a colleague of the same post, and end it early."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from organizations.people import display_name

from . import delegation as delegations
from .services import TaskConflict


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return display_name(user)


class DelegationForm(forms.Form):
    post = forms.ChoiceField(label=gettext_lazy("Post"))
    delegate = PersonChoiceField(label=gettext_lazy("Hand over to"), queryset=None)
    starts_on = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Until"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)
    hand_over_now = forms.BooleanField(
        label=gettext_lazy("Also hand over the tasks I have taken now"), required=False, initial=True
    )

    def __init__(self, *args, posts, **kwargs):
        super().__init__(*args, **kwargs)
        self.posts = {str(post.pk): post for post in posts}
        self.fields["post"].choices = [
            (str(post.pk), f"{post.organization.name} · {post.get_role_display()}") for post in posts
        ]
        chosen = self.posts.get(str(self.data.get("post") or next(iter(self.posts), "")))
        self.fields["delegate"].queryset = (
            delegations.fellow_holders(chosen) if chosen else get_user_model().objects.none()
        )
        today = timezone.localdate()
        self.fields["starts_on"].initial = today
        self.fields["ends_on"].initial = today

    @property
    def chosen_post(self):
        return self.posts.get(self.cleaned_data.get("post", ""))


@login_required
def delegation_list(request):
    posts = delegations.delegable_posts(request.user)
    form = DelegationForm(request.POST or None, posts=posts) if posts else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                delegation = delegations.delegation_create(
                    user=request.user,
                    post=form.chosen_post,
                    delegate=form.cleaned_data["delegate"],
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                    reason=form.cleaned_data["reason"],
                    hand_over_now=form.cleaned_data["hand_over_now"],
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, field_messages in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, field_messages)
                else:
                    form.add_error(None, error.messages)
            else:
                handed = delegation.tasks.count()
                messages.success(
                    request,
                    _(
                        "From %(start)s to %(end)s the tasks of your post go to %(name)s; "
                        "%(count)s tasks you held were handed over now."
                    )
                    % {
                        "start": delegation.starts_on,
                        "end": delegation.ends_on,
                        "name": display_name(delegation.delegate),
                        "count": handed,
                    },
                )
                return redirect("flows:delegations")
        status = 400
    today = timezone.localdate()
    rows = list(delegations.delegations_of(request.user)[:100])
    for row in rows:
        row.in_force = row.is_active_on(today)
        row.can_end = row.delegator_id == request.user.pk and row.revoked_at is None and row.ends_on >= today
    return render(request, "flows/delegations.html", {"form": form, "delegations": rows}, status=status)


@login_required
@require_POST
def delegation_end(request, pk: int):
    try:
        delegation = delegations.delegation_end(user=request.user, delegation_id=pk)
    except delegations.Delegation.DoesNotExist:
        raise PermissionDenied from None
    except TaskConflict as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Your delegation to %(name)s has ended; new tasks come to your post again.")
            % {"name": display_name(delegation.delegate)},
        )
    return redirect("flows:delegations")
