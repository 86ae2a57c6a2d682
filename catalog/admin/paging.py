"""A change list that pages without counting.

Django's change list counts the filtered rows on every page to number the pages; on a table of
a million images that count costs about as much as reading them all. This change list reads one
row more than a page holds instead: enough to know whether a next page exists. The templates
(admin/catalog/image/) offer "first / previous / next" in place of page numbers and totals.
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR, ChangeList

# Deeper pages are not useful (search or filter instead) and their OFFSET gets slow.
MAX_PAGE = 10_000


class UncountedChangeList(ChangeList):
    def get_results(self, request):
        if not 1 <= self.page_num <= MAX_PAGE:
            raise IncorrectLookupParameters
        per_page = self.list_per_page
        offset = (self.page_num - 1) * per_page
        rows = list(self.queryset[offset : offset + per_page + 1])
        if not rows and self.page_num > 1:
            raise IncorrectLookupParameters

        self.result_list = rows[:per_page]
        self.has_next_page = len(rows) > per_page
        self.has_previous_page = self.page_num > 1
        self.multi_page = self.has_next_page or self.has_previous_page
        self.first_page_url = self.get_query_string()  # the page number is not kept
        self.previous_page_url = self.get_query_string({PAGE_VAR: self.page_num - 1})
        self.next_page_url = self.get_query_string({PAGE_VAR: self.page_num + 1})
        # What Django's templates read; these templates are replaced for images so that no
        # number pretends to be a total. `result_count` is the rows seen so far.
        self.result_count = offset + len(self.result_list)
        self.full_result_count = None
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.can_show_all = False
        self.paginator = None
