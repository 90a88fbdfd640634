import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from calls.domain import criteria_seed
from calls.models import Call, CallState, Delegation, Institute, Unit
from proposals.models import BudgetCategory, BudgetLine, Proposal, TeamMember, TeamSide

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.User"
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    language = "en"
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        # allauth's mandatory verification: factory users have a verified primary address.
        if create:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(user=self, email=self.email, defaults={"verified": True, "primary": True})


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def activate_totp(user, secret: str = TOTP_SECRET) -> None:
    """Give a user a TOTP authenticator, as reviewers, officers and staff must have (iea.mfa)."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)


def totp_code(secret: str = TOTP_SECRET) -> str:
    from iea.mfa import current_totp_code

    return current_totp_code(secret)


class StaffFactory(UserFactory):
    """Directorate staff, with two-factor authentication set up (``mfa=False`` for a user without)."""

    is_staff = True
    is_superuser = True

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):
        if create and extracted is not False:
            activate_totp(self)


class InstituteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institute
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"IN{n:02d}")
    legal_name = factory.LazyAttribute(lambda o: f"Institut {o.code}")
    usage_name = factory.LazyAttribute(lambda o: f"CNRS {o.code}")


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delegation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"DR{n:02d}")
    name = factory.Sequence(lambda n: f"Délégation {n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    unit_type = "UMR"
    number = factory.Sequence(lambda n: f"{5000 + n:04d}")
    acronym = factory.Sequence(lambda n: f"LAB{n}")
    name = factory.Sequence(lambda n: f"Laboratoire {n}")
    delegation = factory.SubFactory(DelegationFactory)
    main_institute = factory.SubFactory(InstituteFactory)


class CallFactory(factory.django.DjangoModelFactory):
    """An open call whose window contains the real clock unless told otherwise."""

    class Meta:
        model = Call
        skip_postgeneration_save = True

    year = factory.Sequence(lambda n: 2030 + n)
    title_fr = factory.LazyAttribute(lambda o: f"IEA {o.year}")
    title_en = factory.LazyAttribute(lambda o: f"IEA {o.year}")
    state = CallState.OPEN
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))

    @factory.post_generation
    def criteria(self, create, extracted, **kwargs):
        if create:
            criteria_seed(self)


class ProposalFactory(factory.django.DjangoModelFactory):
    """A draft with budget lines; ``complete=True`` fills everything submission needs except the letter."""

    class Meta:
        model = Proposal
        skip_postgeneration_save = True

    call = factory.SubFactory(CallFactory)
    pi = factory.SubFactory(UserFactory)
    reference = factory.Sequence(lambda n: f"IEA99-{n:06X}")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)

    class Params:
        complete = factory.Trait(
            title="Coastal erosion under changing storms",
            acronym="COAST",
            abstract="We study coastal erosion with partners abroad.",
            keywords="erosion, coasts, storms",
            unit=factory.SubFactory(UnitFactory),
            partner_name="Ana Souza",
            partner_email="ana@usp.example.br",
            partner_institution="Universidade de São Paulo",
            partner_country="BR",
            activities="Two missions per year and a workshop.",
            ethics_statement="No ethical issue.",
        )

    @factory.post_generation
    def budget(self, create, extracted, **kwargs):
        if not create:
            return
        amounts = extracted if extracted is not None else ({"mobility": Decimal(3000), "meetings": Decimal(3000)}
                                                          if self.title else {})
        BudgetLine.objects.bulk_create(
            BudgetLine(proposal=self, year=year, category=category, amount=amounts.get(category, Decimal(0)))
            for year in (1, 2)
            for category in BudgetCategory.values
        )

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and self.title:
            TeamMember.objects.create(proposal=self, side=TeamSide.CNRS, name="Marie Curie", early_career=False)
            TeamMember.objects.create(proposal=self, side=TeamSide.PARTNER, name="Ana Souza", early_career=True)
