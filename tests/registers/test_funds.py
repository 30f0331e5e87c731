"""The fund register: balances, payments refused above the balance, income, and who may write."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from registers.funds import fund_balance, income_record, insufficient_balance_message, payment_record
from registers.models import Direction, FundAccount, FundMovement
from tests.conftest import build_world
from tests.drive import apply_purchase


def fund_account(organization, opening="50000.00", name="基本存款账户", number="6222000011112222") -> FundAccount:
    """A bank account of the collective with an opening balance; shared by the fund disbursement tests."""
    account = FundAccount(organization=organization, name=name, account_number=number, opening_balance=Decimal(opening))
    account.full_clean()
    account.save()
    return account


def pay(world, account, amount, *, matter=None, user=None, occurred_on=None, payee="某建筑公司", purpose="道路修缮"):
    return payment_record(
        account=account,
        amount=Decimal(amount),
        occurred_on=occurred_on or timezone.localdate(),
        counterparty=payee,
        purpose=purpose,
        matter=matter,
        user=user or world.cashier_a1,
    )


@pytest.mark.django_db
class TestBalance:
    def test_balance_is_opening_plus_income_minus_payments(self, world):
        account = fund_account(world.collective_a1, opening="1000.00")
        assert fund_balance(account) == Decimal("1000.00")
        income_record(
            account=account,
            amount=Decimal("250.50"),
            occurred_on=timezone.localdate(),
            counterparty="承包户",
            purpose="承包费",
        )
        pay(world, account, "300.25")
        assert fund_balance(account) == Decimal("950.25")

    def test_other_accounts_do_not_count(self, world):
        account = fund_account(world.collective_a1, opening="1000.00")
        other = fund_account(world.collective_a1, opening="5000.00", name="现金", number="")
        pay(world, other, "4000.00")
        assert fund_balance(account) == Decimal("1000.00")
        assert fund_balance(other) == Decimal("1000.00")


@pytest.mark.django_db
class TestPayment:
    def test_payment_is_recorded_against_the_account_and_the_matter(self, world):
        account = fund_account(world.collective_a1)
        matter = apply_purchase(world)
        movement = pay(world, account, "8000.00", matter=matter)
        assert movement.direction == Direction.OUT
        assert (movement.account, movement.matter, movement.recorded_by) == (account, matter, world.cashier_a1)
        assert (movement.counterparty, movement.purpose) == ("某建筑公司", "道路修缮")
        assert fund_balance(account) == Decimal("42000.00")
        assert movement.history.count() == 1
        assert list(matter.fund_movements.all()) == [movement]

    def test_the_whole_balance_can_be_paid(self, world):
        account = fund_account(world.collective_a1, opening="100.00")
        pay(world, account, "100.00")
        assert fund_balance(account) == Decimal("0.00")

    def test_payment_above_the_balance_is_refused_and_says_the_balance(self, world):
        account = fund_account(world.collective_a1, opening="1000.00")
        with pytest.raises(ValidationError) as error:
            pay(world, account, "1000.01")
        message = insufficient_balance_message(account, Decimal("1000.01"), Decimal("1000.00"))
        assert error.value.message_dict == {"amount": [message]}
        assert "1000.00" in message
        assert not FundMovement.objects.exists()

    @pytest.mark.parametrize("amount", ["0", "-5.00"])
    def test_zero_or_negative_payment_is_refused(self, world, amount):
        account = fund_account(world.collective_a1)
        with pytest.raises(ValidationError) as error:
            pay(world, account, amount)
        assert error.value.message_dict == {"amount": [_("The amount must be more than zero.")]}
        assert not FundMovement.objects.exists()

    def test_payment_on_a_future_date_is_refused(self, world):
        account = fund_account(world.collective_a1)
        with pytest.raises(ValidationError) as error:
            pay(world, account, "10.00", occurred_on=timezone.localdate() + datetime.timedelta(days=1))
        assert "occurred_on" in error.value.message_dict
        assert not FundMovement.objects.exists()

    def test_payment_for_a_matter_of_another_collective_is_refused(self, world):
        account = fund_account(world.collective_a2)
        matter = apply_purchase(world)
        with pytest.raises(ValidationError) as error:
            pay(world, account, "10.00", matter=matter, user=world.secretary_a2)
        assert "account" in error.value.message_dict
        assert not FundMovement.objects.exists()

    @pytest.mark.parametrize("persona", ["secretary_a2", "supervisor_a1", "officer_a", "inspector"])
    def test_only_the_collectives_cashier_or_secretary_records_payments(self, world, persona):
        account = fund_account(world.collective_a1)
        with pytest.raises(PermissionDenied):
            pay(world, account, "10.00", user=getattr(world, persona))
        assert not FundMovement.objects.exists()


@pytest.mark.django_db
def test_income_is_recorded_with_its_matter(world):
    account = fund_account(world.collective_a1, opening="0.00")
    matter = apply_purchase(world)
    movement = income_record(
        account=account,
        amount=Decimal("3000.00"),
        occurred_on=timezone.localdate(),
        counterparty="回收公司",
        purpose="处置收入",
        matter=matter,
        user=world.secretary_a1,
    )
    assert (movement.direction, movement.matter, movement.recorded_by) == (Direction.IN, matter, world.secretary_a1)
    assert fund_balance(account) == Decimal("3000.00")
    assert movement.history.count() == 1


@pytest.mark.django_db
def test_zero_income_is_refused(world):
    account = fund_account(world.collective_a1)
    with pytest.raises(ValidationError):
        income_record(
            account=account, amount=Decimal("0"), occurred_on=timezone.localdate(), counterparty="x", purpose="y"
        )
    assert not FundMovement.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_payments_at_once_never_overdraw_the_account():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are only real on PostgreSQL (SQLite serialises whole transactions)")
    world = build_world()
    account = fund_account(world.collective_a1, opening="10000.00")
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            pay(world, account, "6000.00")
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        except Exception as error:  # any other failure is reported in the assertion
            outcomes.append(repr(error))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok", "refused"]
    assert fund_balance(account) == Decimal("4000.00")
