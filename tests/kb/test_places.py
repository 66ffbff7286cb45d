import pytest

from knowledge.lexicon.places import current_province, find_places, same_place


def test_districts_map_to_their_province_and_run_together_spellings():
    text = "UBND thị xã Ba Đồn, các huyện Tuyên Hóa, Quảng Trạch, Quảng Ninh. Theo QuangBinh Portal"
    places = find_places(text)
    assert [p.name for p in places] == ["Ba Đồn", "Tuyên Hóa", "Quảng Trạch", "Quảng Ninh",
                                        "Quảng Bình"]
    assert {p.province for p in places} == {"Quảng Bình"}


def test_district_named_like_a_province_is_not_the_province():
    (district,) = find_places("Ở huyện Quảng Ninh thì sao?")
    assert (district.name, district.province) == ("Quảng Ninh", "Quảng Bình")
    assert [p.province for p in find_places("tỉnh Quảng Ninh")] == ["Quảng Ninh"]
    assert [p.province for p in find_places("các huyện Tuyên Hóa, Quảng Ninh")] == [
        "Quảng Bình", "Quảng Bình"]


@pytest.mark.parametrize("text,name", [("TP.HCM", "Hồ Chí Minh"), ("quang tri", "Quảng Trị"),
                                       ("Thừa Thiên Huế", "Thừa Thiên Huế"),
                                       ("Bà Rịa – Vũng Tàu", "Bà Rịa - Vũng Tàu")])
def test_aliases_and_spellings(text, name):
    assert find_places(text)[0].name == name


def test_2025_mergers():
    assert current_province("Quảng Bình") == "Quảng Trị"
    assert current_province("Hà Nội") == "Hà Nội"
    assert same_place("Quảng Trị", "Quảng Bình")  # today's Quảng Trị includes Quảng Bình
    assert not same_place("Quảng Bình", "Quảng Trị")
