from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from organizations.jurisdiction import get_for_user, visible

from .models import Asset, AssetStatus, Member


@login_required
def asset_list(request):
    assets = visible(request.user, Asset.objects.select_related("organization", "source_matter"))
    status = request.GET.get("status", "")
    if status in AssetStatus.values:
        assets = assets.filter(status=status)
    page = Paginator(assets, 50).get_page(request.GET.get("page"))
    return render(
        request, "registers/asset_list.html", {"page": page, "statuses": AssetStatus.choices, "status": status}
    )


@login_required
def asset_detail(request, pk: int):
    asset = get_for_user(request.user, Asset.objects.select_related("organization", "source_matter"), pk)
    return render(request, "registers/asset_detail.html", {"asset": asset, "history": asset.history.all()})


@login_required
def member_list(request):
    members = visible(request.user, Member.objects.select_related("organization"))
    page = Paginator(members, 100).get_page(request.GET.get("page"))
    return render(request, "registers/member_list.html", {"page": page})
